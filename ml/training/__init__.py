"""Training of the beat classifier (`python -m ml.train`): data, augmentation, grouped
cross-validation, selection, the final fit, its reports and the model card."""
