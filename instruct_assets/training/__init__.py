"""Supervised fine-tuning: conversations into training examples, the training loop, checkpoint folders."""
