"""The volunteer record: one row per person who accepted an offer, and where they are in the lifecycle.

An offer (services.make_offer) creates the record in VETTING and gives the person the volunteer role;
vetting, training and allocation read and move it. Flask-free.
"""
