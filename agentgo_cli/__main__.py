from agentgo_cli.cli.app import main

main()
