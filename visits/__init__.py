"""Visit planning and visit logs."""
