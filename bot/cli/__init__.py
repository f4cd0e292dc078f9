"""The command line (`bvhk-triage`); the commands are in `bot.cli.commands`."""
