"""The bundled sample: three "Belang van het Kind" mailboxes, labels and a contact directory.

ILLUSTRATIVE ONLY. Everything in this folder is invented by `tools/sample/generate.py`: the
people, names, e-mail addresses, phone numbers, dates of birth, BSN and V-numbers, and the
cases themselves. Any likeness to a real person or case is accidental. Addresses use the
reserved `.example` domains. The data serves the demo (`make demo`), the tests and the
first classifier model; see README.md beside this file.
"""
