"""Training-subset selection methods (random, RDS+, IterIT, depth x coverage) as pure functions."""
