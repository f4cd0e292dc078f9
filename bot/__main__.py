from bot.cli.commands import entry

entry()
