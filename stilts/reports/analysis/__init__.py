"""The research questions' analyses: each reads finished runs from the store (never trains)
and answers with tables, findings that state their uncertainty, and a figure."""
