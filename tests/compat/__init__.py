"""The compatibility suite's programs: short training programs written the way well-known PyTorch
programs are written (the MNIST example, nanoGPT, minGPT, the word-level language model, the VAE example),
in our own words.

Each program is a function whose first argument is the framework module, `torch` or `glassnet`, named
`torch` inside: its body uses nothing else of the library, exactly as a user's program would after
`import glassnet as torch`. The test (`tests/test_compat_programs.py`) runs each program under PyTorch,
then under glassnet from the same starting point, and compares what they return.

The conventions that make the two runs comparable (`common.py`):
* `weights`: a dict of NumPy arrays; a program builds its model as usual (so its own initialisation runs
  on both frameworks) and then, when `weights` is given, loads them through `model.load_state_dict`.
  Every program returns its model's starting state as `result["init"]`, which the test hands to the
  second run.
* `replay`: the random batch choices of the first run. A program still draws its batch indices with the
  framework's generator (`torch.randint`, a `RandomSampler`) and then, when `replay` is given, uses the
  recorded ones instead; it returns the choices it used as `result["drawn"]`.
"""
