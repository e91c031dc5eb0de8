"""A convolutional digit classifier in the manner of the classic PyTorch MNIST example: a device chosen
by `torch.cuda.is_available()`, `.to(device)` on model and batches, layers initialised through `.data`,
an SGD optimizer with a StepLR schedule, then a few steps of hand-written SGD on `p.data`, progress lines
built with f-strings and `str.format` on tensors, and the weights saved and read back with
`torch.save` / `torch.load`, through a file object and through a path. No dropout: the run is
deterministic."""
import io
import os

from .common import load_numpy_state, numpy_state


def network(torch):
    nn, F = torch.nn, torch.nn.functional

    class DigitNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3, 1)
            self.conv2 = nn.Conv2d(6, 12, 3, 1)
            self.fc1 = nn.Linear(12 * 5 * 5, 48)
            self.fc2 = nn.Linear(48, 10)

        def forward(self, x):                                  # (B, 1, 28, 28)
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)         # (B, 6, 13, 13)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)         # (B, 12, 5, 5)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(0, 0.05)
            m.bias.data.fill_(0)

    return DigitNet, init_weights


def as_batches(torch, images, labels, batch_size):
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)
    x = (x - 0.1307) / 0.3081
    dataset = torch.utils.data.TensorDataset(x, torch.from_numpy(labels))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


def train_epoch(torch, model, device, loader, optimizer, epoch, log):
    F = torch.nn.functional
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % 5 == 0:
            seen = batch_idx * len(data)
            log.append(f"Train Epoch: {epoch} [{seen}/{len(loader.dataset)} "
                       f"({100. * batch_idx / len(loader):.0f}%)]\tLoss: {loss:.4f}")
    return losses


def hand_sgd(torch, model, device, loader, lr, steps):
    """Plain SGD written out on the parameters' `.data`, as older programs do."""
    F = torch.nn.functional
    losses = []
    for step, (data, target) in zip(range(steps), loader):
        data, target = data.to(device), target.to(device)
        model.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def evaluate(torch, model, device, loader, log):
    F = torch.nn.functional
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum()        # a 0-d tensor
    test_loss /= len(loader.dataset)
    log.append("Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)".format(
        test_loss, correct, len(loader.dataset), 100. * correct / len(loader.dataset)))
    return test_loss, correct.item()


def save_and_reload(torch, model_class, model, device, folder):
    """The state dict through a file object and through a path; both copies must load."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    from_buffer = model_class().to(device)
    from_buffer.load_state_dict(torch.load(buffer))
    path = os.path.join(folder, "digit_net.pt")
    torch.save(model.state_dict(), path)
    from_path = model_class().to(device)
    from_path.load_state_dict(torch.load(path, map_location=device))
    return from_buffer, from_path


def run(torch, train, test, folder, weights=None, epochs=2, lr=0.05):
    """Train on `train` = (images, labels) for `epochs` epochs, evaluate on `test`; `folder` for the file."""
    torch.manual_seed(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    DigitNet, init_weights = network(torch)
    model = DigitNet().to(device)
    model.apply(init_weights)
    init = numpy_state(model)
    load_numpy_state(torch, model, weights)
    train_loader, test_loader = as_batches(torch, *train, 32), as_batches(torch, *test, 250)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    log, losses = [], []
    for epoch in range(1, epochs + 1):
        losses += train_epoch(torch, model, device, train_loader, optimizer, epoch, log)
        scheduler.step()
    losses += hand_sgd(torch, model, device, train_loader, lr=scheduler.get_last_lr()[0], steps=4)
    test_loss, correct = evaluate(torch, model, device, test_loader, log)
    reloaded = [evaluate(torch, m, device, test_loader, [])[0]
                for m in save_and_reload(torch, DigitNet, model, device, folder)]
    return {"init": init, "losses": losses, "test_loss": test_loss, "correct": correct,
            "reloaded_test_loss": reloaded, "log": log, "model": model}
