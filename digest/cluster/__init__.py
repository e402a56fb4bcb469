"""One item per event: articles' terms, candidate pairs, linkage, look-alike splits, ranking.

What other stages may use; the modules beside this one are internal."""

from ._clusterer import cluster_articles, join_delivered
from ._rank import filter_clusters, passes, rank_clusters, sources_of
from ._terms.batch import TermsBatch, batch_terms
from ._terms.features import UNKNOWN_VERSION, terms_version
from ._terms.stored import decoded_terms, encoded_terms

__all__ = [
    "UNKNOWN_VERSION",
    "TermsBatch",
    "batch_terms",
    "cluster_articles",
    "decoded_terms",
    "encoded_terms",
    "filter_clusters",
    "join_delivered",
    "passes",
    "rank_clusters",
    "sources_of",
    "terms_version",
]
