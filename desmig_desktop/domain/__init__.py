"""Pure domain layer: questionnaire specs, validation, ids and report maths (stdlib only)."""
