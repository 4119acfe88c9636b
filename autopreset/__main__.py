"""``python -m autopreset`` runs the command line."""
from autopreset.cli import main

main()
