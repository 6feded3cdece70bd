"""Expense claims: lines, mileage at HMRC rates, receipts, approval and payment batches.

Rank 5; Flask-free outside web/.
"""
