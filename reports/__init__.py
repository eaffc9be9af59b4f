"""PDF rendering of signed reports with WeasyPrint (clinician report, patient summary).

Filled by issue 6.
"""
