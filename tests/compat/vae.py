"""A variational autoencoder on MNIST in the manner of PyTorch's VAE example: two linear layers out to
`mu` and `logvar`, the reparameterisation `std = torch.exp(0.5 * logvar); eps = torch.randn_like(std)`,
a loss of `F.binary_cross_entropy(..., reduction='sum')` plus the closed-form KL term, Adam, a test pass
under `torch.no_grad()` that puts inputs and reconstructions side by side with `torch.cat`, and digits
decoded from `torch.randn` codes. The noise makes it stochastic: the two frameworks are compared by
their losses at the end."""
from .common import load_numpy_state, numpy_state


def model_class(torch):
    nn, F = torch.nn, torch.nn.functional

    class VAE(nn.Module):
        def __init__(self, hidden=128, latent=8):
            super().__init__()
            self.fc1 = nn.Linear(784, hidden)
            self.fc21 = nn.Linear(hidden, latent)
            self.fc22 = nn.Linear(hidden, latent)
            self.fc3 = nn.Linear(latent, hidden)
            self.fc4 = nn.Linear(hidden, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    return VAE


def loss_function(torch, recon_x, x, mu, logvar):
    """Reconstruction (summed binary cross-entropy) plus KL(q(z|x) || N(0, I)) in closed form."""
    BCE = torch.nn.functional.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train_epoch(torch, model, optimizer, loader, device):
    model.train()
    train_loss, losses = 0, []
    for data, _ in loader:
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(torch, recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        losses.append(loss.item() / len(data))
    return train_loss / len(loader.dataset), losses


def test(torch, model, loader, device):
    model.eval()
    test_loss, comparison = 0, None
    with torch.no_grad():
        for i, (data, _) in enumerate(loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(torch, recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(data.size(0), 1, 28, 28)[:n]])
    return test_loss / len(loader.dataset), comparison


def loader(torch, images, batch_size):
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)          # (N, 1, 28, 28) in [0, 1]
    labels = torch.zeros(len(x), dtype=torch.long)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, labels), batch_size=batch_size)


def run(torch, train_images, test_images, weights=None, epochs=2, seed=1):
    """Train for `epochs` epochs; returns per-batch training losses, epoch averages and the test loss."""
    torch.manual_seed(seed)
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    model = model_class(torch)().to(device)
    init = numpy_state(model)
    load_numpy_state(torch, model, weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader, test_loader = loader(torch, train_images, 64), loader(torch, test_images, 100)
    losses, epoch_losses, log = [], [], []
    for epoch in range(1, epochs + 1):
        average, batch_losses = train_epoch(torch, model, optimizer, train_loader, device)
        losses += batch_losses
        epoch_losses.append(average)
        log.append('====> Epoch: {} Average loss: {:.4f}'.format(epoch, average))
    test_loss, comparison = test(torch, model, test_loader, device)
    with torch.no_grad():
        sample = model.decode(torch.randn(16, 8).to(device)).cpu()
    return {"init": init, "losses": losses, "epoch_losses": epoch_losses, "test_loss": test_loss, "log": log,
            "comparison_shape": tuple(comparison.shape), "sample_mean": sample.mean().item(), "model": model}
