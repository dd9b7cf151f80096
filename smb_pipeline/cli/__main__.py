"""`python -m smb_pipeline.cli`: the `smb-pipeline` command without its installed script."""

import sys

from smb_pipeline.cli.commands import main

sys.exit(main())
