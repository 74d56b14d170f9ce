"""Where the raw pool's sources come from: the landing directory and the sources file."""
