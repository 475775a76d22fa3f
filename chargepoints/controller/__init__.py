"""The charge point controller: rules, commands and the agent that drives the park's hardware."""
