"""Teams: agents that work together through a protocol (pipeline, planner-workers,
contract-net, swarm), a shared blackboard and a todo list with atomic claims."""
