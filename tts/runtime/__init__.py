"""The runtime: settings (`settings.SynthesisConfig`), text planning (`planning`), retries of failed
chunks (`retries`), results (`speech`), the `Pipeline` (`pipeline`) and voice folders (`voices`)."""
