import sys

from zccache.core.cli import main

sys.exit(main())
