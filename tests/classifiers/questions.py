"""Questions written for the classifier tests, not in the labelled set."""

# Six clear questions, one theme each.
UNSEEN = [
    ("De kinderrechter heeft een OTS uitgesproken. Mag het gezin nog worden uitgezet?",
     "kinderbeschermingsmaatregelen"),
    ("De vader ziet zijn zoon om het weekend volgens de omgangsregeling, maar heeft geen verblijfsrecht.",
     "gezag-en-omgang"),
    ("Een jongen van 16 is veroordeeld en zit in jeugddetentie. Wat gebeurt er met zijn vergunning?", "strafrecht"),
    ("Wie wordt voogd van een alleenstaande minderjarige die zonder ouders is aangekomen?", "voogdij"),
    ("Mogen wij zonder toestemming van de ouders gegevens uit het dossier met DT&V delen?", "gegevensdeling"),
    ("Kan iemand een presentatie geven tijdens onze bijeenkomst voor nieuwe collega's?", "voorlichting"),
]

# Mails with nothing to go on (a person would label them 'overig').
EMPTY = ["Zie bijlage.", "Graag terugbellen.", "Ter info doorgestuurd.", "Bedankt, ontvangen.", "Test"]
