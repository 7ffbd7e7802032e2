"""ImageNet-1k's class names, in label order, for models trained on it
(MaskGIT's released checkpoints).

TFDS ships the human-readable list (as "tench, Tinca tinca": the WordNet
synonyms of each class); it is read from there rather than copied here.
"""

NUM_CLASSES = 1000


def class_names():
    """The 1,000 class names, label 0 ("tench, Tinca tinca") first."""
    from tensorflow_datasets.datasets.siscore import labels

    names = tuple(labels.IMAGENET_LABELS_LIST)
    if len(names) != NUM_CLASSES:
        raise RuntimeError(f"TFDS's ImageNet label list has {len(names)} "
                           "names, not 1000")
    return names
