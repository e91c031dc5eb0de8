"""The real data the compatibility programs train on, as plain NumPy arrays and text: the MNIST sample
shipped with glassnet, and tiny Shakespeare from $GLASSNET_DATA (or the cache) when it is there, else a
few passages of Shakespeare kept here."""
import numpy as np

# Shakespeare (public domain): Sonnet 18, and Jaques' "seven ages" from As You Like It, II.7.
PASSAGES = """\
Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.

JAQUES:
All the world's a stage,
And all the men and women merely players;
They have their exits and their entrances,
And one man in his time plays many parts,
His acts being seven ages. At first the infant,
Mewling and puking in the nurse's arms.
Then the whining school-boy, with his satchel
And shining morning face, creeping like snail
Unwillingly to school. And then the lover,
Sighing like furnace, with a woeful ballad
Made to his mistress' eyebrow. Then a soldier,
Full of strange oaths and bearded like the pard,
Jealous in honour, sudden and quick in quarrel,
Seeking the bubble reputation
Even in the cannon's mouth. And then the justice,
In fair round belly with good capon lined,
With eyes severe and beard of formal cut,
Full of wise saws and modern instances;
And so he plays his part. The sixth age shifts
Into the lean and slipper'd pantaloon,
With spectacles on nose and pouch on side;
His youthful hose, well saved, a world too wide
For his shrunk shank; and his big manly voice,
Turning again toward childish treble, pipes
And whistles in his sound. Last scene of all,
That ends this strange eventful history,
Is second childishness and mere oblivion,
Sans teeth, sans eyes, sans taste, sans everything.
"""


def shakespeare_text(max_chars=20000):
    """The first `max_chars` characters of tiny Shakespeare when the file is found, else the passages."""
    from glassnet.datasets import TinyShakespeare

    try:
        return TinyShakespeare(split="all", download=False).text[:max_chars]
    except (OSError, ValueError):
        return PASSAGES


def mnist_arrays(train=True, count=None):
    """(images uint8 (N, 28, 28), labels int64 (N,)) from the MNIST sample shipped with glassnet."""
    from glassnet.datasets import MNIST

    data = MNIST(train=train, sample=True)
    images, labels = data.data.numpy(), data.targets.numpy().astype(np.int64)
    return (images, labels) if count is None else (images[:count], labels[:count])
