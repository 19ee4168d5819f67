"""One router per audience: user (Backstage tabs), SRE/management (KPIs, risk), admin."""
