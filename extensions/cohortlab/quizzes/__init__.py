"""In-notebook quizzes: the spec instructors write and the grading the service does."""
