-- The model scores of one sample in scored_pool (IFD = PPL(y|x) / PPL(y) of its first exchange).
SELECT llm_model, ifd, ppl_conditional, ppl_response, prompt_tokens, response_tokens, truncated, embedder_model
FROM scored_pool
WHERE sample_id = $id
