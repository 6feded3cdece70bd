"""Case allocation: what a case needs, who is eligible and why not, ranking, pairs, offers and bulk
proposals. Rank 5: reads cases, volunteers, training and supervision; Flask-free outside web/."""
