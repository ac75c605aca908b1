"""Issues of the weekly digest: composing them from posts and rendering them."""
