"""Scripts that produced the reference numbers pinned by the metric tests, and the inputs they used."""
