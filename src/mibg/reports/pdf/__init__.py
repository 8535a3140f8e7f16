"""PDF documents (reportlab platypus): eligibility checklist, written directive, administration and release
record, course summary. Each builder takes a :class:`mibg.reports.record.CourseRecord` and returns bytes."""
