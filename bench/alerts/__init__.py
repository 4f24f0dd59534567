"""`sentimon bench alerts`: generated topic-days replayed through the spike detector, and scored."""
