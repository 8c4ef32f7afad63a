"""First-run commands: `init` (an interactive set-up that writes the configuration file) and `login`."""
