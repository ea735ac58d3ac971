"""5B arrivals, one module per state: S2 latent intensity, S3 bucket counts, S4 arrival rows."""
