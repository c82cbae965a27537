"""Privacy protection: pseudonymisation, free-text scrubbing, disclosure control and the leak audit."""
