using Porthole.Agent.State;

namespace Porthole.Agent.Tests;

/// <summary>The local kill switch: the marker file turns remote access off and on; the start-up flag keeps it off.</summary>
public sealed class RemoteAccessSwitchTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthole-switch-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Disable_ThenPoll_ReportsOff_EndOpenSessionsCancelsTheirToken_AndEnableGivesANewOne()
    {
        var directory = _directory.FullName;
        var killSwitch = new RemoteAccessSwitch(directory, disabledForLife: false);
        var startedWhileOn = killSwitch.TryStartSession()!.Value;
        Assert.True(killSwitch.IsEnabled);
        Assert.Null(killSwitch.Poll());

        RemoteAccessSwitch.Disable(directory, "maintenance", DateTimeOffset.UnixEpoch);

        Assert.False(killSwitch.IsEnabled);
        Assert.Equal(false, killSwitch.Poll());
        Assert.Null(killSwitch.Poll());
        Assert.False(startedWhileOn.IsCancellationRequested);
        killSwitch.EndOpenSessions();
        Assert.True(startedWhileOn.IsCancellationRequested);
        Assert.Contains("maintenance", File.ReadAllText(killSwitch.MarkerPath), StringComparison.Ordinal);

        Assert.True(RemoteAccessSwitch.Enable(directory));
        Assert.Equal(true, killSwitch.Poll());
        Assert.True(killSwitch.IsEnabled);
        Assert.False(killSwitch.TryStartSession()!.Value.IsCancellationRequested);
        Assert.False(RemoteAccessSwitch.Enable(directory));
    }

    [Fact]
    public void TryStartSession_RefusedWhileOff_AndSwitchedBackOnBeforeThePoll_GetsALiveToken()
    {
        var directory = _directory.FullName;
        var killSwitch = new RemoteAccessSwitch(directory, disabledForLife: false);
        var first = killSwitch.TryStartSession();
        Assert.NotNull(first);

        RemoteAccessSwitch.Disable(directory, null, DateTimeOffset.UnixEpoch);
        Assert.Null(killSwitch.TryStartSession());
        Assert.Equal(false, killSwitch.Poll());
        killSwitch.EndOpenSessions();
        Assert.True(first.Value.IsCancellationRequested);

        RemoteAccessSwitch.Enable(directory);
        var second = killSwitch.TryStartSession();
        Assert.NotNull(second);
        Assert.False(second.Value.IsCancellationRequested);

        // The watch noticing the enable afterwards must not orphan the session that already holds a live token.
        Assert.Equal(true, killSwitch.Poll());
        RemoteAccessSwitch.Disable(directory, null, DateTimeOffset.UnixEpoch);
        Assert.Equal(false, killSwitch.Poll());
        killSwitch.EndOpenSessions();
        Assert.True(second.Value.IsCancellationRequested);
    }

    [Fact]
    public void DisabledForLife_StaysOff_WhateverTheMarker()
    {
        var directory = _directory.FullName;
        var killSwitch = new RemoteAccessSwitch(directory, disabledForLife: true);

        Assert.False(killSwitch.IsEnabled);
        Assert.Null(killSwitch.TryStartSession());
        RemoteAccessSwitch.Disable(directory, null, DateTimeOffset.UnixEpoch);
        RemoteAccessSwitch.Enable(directory);
        Assert.Null(killSwitch.Poll());
        Assert.False(killSwitch.IsEnabled);
    }

    [Fact]
    public async Task WatchAsync_ReportsEachChange_Once_AndEndsOpenSessionsAfterReportingOff()
    {
        var directory = _directory.FullName;
        var killSwitch = new RemoteAccessSwitch(directory, disabledForLife: false);
        var startedWhileOn = killSwitch.TryStartSession()!.Value;
        bool? endedWhenOffWasReported = null;
        var changes = new List<bool>();
        using var stop = new CancellationTokenSource();
        var watching = killSwitch.WatchAsync(TimeSpan.FromMilliseconds(20), enabled =>
        {
            lock (changes)
            {
                changes.Add(enabled);
                if (!enabled)
                {
                    endedWhenOffWasReported = startedWhileOn.IsCancellationRequested;
                }
            }

            return Task.CompletedTask;
        }, stop.Token);

        RemoteAccessSwitch.Disable(directory, null, DateTimeOffset.UnixEpoch);
        await WaitUntilAsync(() => changes.Count == 1);
        await WaitUntilAsync(() => startedWhileOn.IsCancellationRequested);
        RemoteAccessSwitch.Enable(directory);
        await WaitUntilAsync(() => changes.Count == 2);
        await Task.Delay(100);
        await stop.CancelAsync();
        await watching;

        Assert.Equal([false, true], changes);
        Assert.Equal(false, endedWhenOffWasReported);
        Assert.False(killSwitch.TryStartSession()!.Value.IsCancellationRequested);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the watch did not report the change");
            await Task.Delay(10);
        }
    }
}
