-- Every decision recorded about one id (a sample_id, or a quarantine_id for a row that never parsed).
-- Stages in pipeline order (curation, selections, then the checkpoints a sample trained); ref_id is what a decision points at (a duplicate's survivor, a benchmark item).
SELECT stage, kept, reason, detail, score, source, source_ref.file AS file, source_ref.row AS row,
       run_id, code_version, ref_id
FROM decisions
WHERE sample_id = $id OR quarantine_id = $id
ORDER BY list_position(['ingest', 'dedup', 'filter', 'decontamination', 'dsir', 'random_selection',
                        'rds_plus_selection', 'iterit_selection', 'coverage_selection', 'checkpoint_f',
                        'loss_difference', 'checkpoint_stage2', 'checkpoint_mixed', 'selection_checkpoint'],
                       stage) NULLS LAST, stage,
         source, file, row
