#compdef agentgo

_agentgo_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _AGENTGO_COMPLETE=complete_zsh agentgo)
}

compdef _agentgo_completion agentgo
