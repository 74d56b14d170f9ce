"""Training: SFT checkpoints as assets (stage 1 on F, stage 2, one mixed stage, one per selection method)."""
