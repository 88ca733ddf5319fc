"""The results report (issue 14, results that report): survey answers with their labels, the
per-question and term-code tallies, the campaign's time zone, and the CSV export's columns."""
