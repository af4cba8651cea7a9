"""The editor's desk: review, correct and publish drafts in the browser (/desk)."""
