"""A word-level LSTM language model in the manner of PyTorch's word_language_model example: a Dictionary
and Corpus of word ids, `batchify` with `.narrow(0, 0, n)` and `.view(bsz, -1).t().contiguous()`,
an encoder / LSTM / decoder model with tied weights, `uniform_` initialisation through `.data`, hidden
states from `weight.new_zeros(...)` with `weight = next(self.parameters())`, `repackage_hidden` detaching
the (h, c) tuple between chunks, `nn.NLLLoss` on `F.log_softmax`, gradient clipping and hand-written SGD
on `p.data`, the learning rate divided by 4 when validation stops improving, perplexity via `math.exp`.
Dropout 0: deterministic."""
import math

from .common import load_numpy_state, numpy_state


class Dictionary:
    def __init__(self):
        self.word2idx, self.idx2word = {}, []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


def tokenize(torch, dictionary, lines):
    """Every line's words plus an end-of-sentence marker, as one long int64 tensor."""
    ids = []
    for line in lines:
        for word in line.split() + ['<eos>']:
            ids.append(dictionary.add_word(word))
    return torch.tensor(ids).type(torch.int64)


def batchify(data, bsz, device):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)                 # drop what does not fit evenly
    return data.view(bsz, -1).t().contiguous().to(device)  # (nbatch, bsz): each column one stream


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)


def repackage_hidden(h):
    """Cut the graph between chunks, keeping the values."""
    if isinstance(h, tuple):
        return tuple(repackage_hidden(v) for v in h)
    return h.detach()


def model_class(torch):
    nn, F = torch.nn, torch.nn.functional

    class RNNModel(nn.Module):
        def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.0, tie_weights=True):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError('tied weights need nhid == emsize')
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.nhid, self.nlayers, self.ntoken = nhid, nlayers, ntoken

        def init_weights(self):
            initrange = 0.1
            self.encoder.weight.data.uniform_(-initrange, initrange)
            self.decoder.bias.data.zero_()
            self.decoder.weight.data.uniform_(-initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros((self.nlayers, bsz, self.nhid)),
                    weight.new_zeros((self.nlayers, bsz, self.nhid)))

    return RNNModel


def train_epoch(torch, model, train_data, lr, bptt, batch_size, clip=0.25):
    criterion = torch.nn.NLLLoss()
    model.train()
    hidden = model.init_hidden(batch_size)
    losses = []
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def evaluate(torch, model, data_source, bptt, batch_size):
    criterion = torch.nn.NLLLoss()
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def run(torch, text, save_path, weights=None, epochs=3, lr=20.0, bptt=12, batch_size=8):
    """Train on the first 80% of `text`'s lines, validate on the next 10%, and test the best epoch's
    weights (kept in the file `save_path`) on the rest; losses and perplexities."""
    torch.manual_seed(1111)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    lines = [line for line in text.splitlines() if line.strip()]
    corpus = Dictionary()
    cut, cut2 = int(0.8 * len(lines)), int(0.9 * len(lines))
    train_ids, val_ids, test_ids = (tokenize(torch, corpus, part)
                                    for part in (lines[:cut], lines[cut:cut2], lines[cut2:]))
    train_data = batchify(train_ids, batch_size, device)
    val_data, test_data = batchify(val_ids, 4, device), batchify(test_ids, 4, device)
    model = model_class(torch)(len(corpus), 32, 32, 2).to(device)
    init = numpy_state(model)
    load_numpy_state(torch, model, weights)
    losses, val_losses, log = [], [], []
    best_val_loss = None
    for epoch in range(1, epochs + 1):
        losses += train_epoch(torch, model, train_data, lr, bptt, batch_size)
        val_loss = evaluate(torch, model, val_data, bptt, 4)
        val_losses.append(val_loss)
        log.append('| end of epoch {:3d} | valid loss {:5.2f} | valid ppl {:8.2f}'.format(
            epoch, val_loss, math.exp(val_loss)))
        if not best_val_loss or val_loss < best_val_loss:
            with open(save_path, 'wb') as f:
                torch.save(model.state_dict(), f)
            best_val_loss = val_loss
        else:
            lr /= 4.0
    with open(save_path, 'rb') as f:
        model.load_state_dict(torch.load(f))
        model.rnn.flatten_parameters()
    test_loss = evaluate(torch, model, test_data, bptt, 4)
    return {"init": init, "losses": losses, "val_losses": val_losses, "test_loss": test_loss, "log": log,
            "vocab": len(corpus), "train_shape": tuple(train_data.shape), "model": model}
