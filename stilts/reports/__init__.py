"""What is read out of finished runs: results tables, the study's table, benchmark scores,
language metadata, figures, and the analyses that answer the research questions."""
