"""Reports and figures: the overlap report (HTML/PDF), print-ready plan figures, symbology."""
