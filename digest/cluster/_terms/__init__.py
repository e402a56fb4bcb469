"""An article's terms (words, names, figures), and batches of them."""
