using System.Diagnostics;
using System.Text;

namespace Porthole.Tests.Common;

/// <summary>
/// A child process whose stdout and stderr are captured line by line. Disposing kills the whole process tree,
/// so a failed test never leaves a server running.
/// </summary>
public sealed class ProcessRunner : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Action<string>? _log;
    private readonly Lock _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;
    private bool _disposed;

    private ProcessRunner(Process process, Action<string>? log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>The command line, for messages.</summary>
    public string CommandLine { get; private init; } = "";

    /// <summary>Process id of the child.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The child's stdin (a pipe; <see cref="RunToEndAsync"/> closes it).</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>A snapshot of the stdout lines so far.</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get { lock (_gate) { return [.. _stdout]; } }
    }

    /// <summary>A snapshot of the stderr lines so far.</summary>
    public IReadOnlyList<string> StandardErrorLines
    {
        get { lock (_gate) { return [.. _stderr]; } }
    }

    /// <summary>Everything captured so far, for failure messages.</summary>
    public string CapturedOutput
    {
        get
        {
            lock (_gate)
            {
                return CapturedOutputUnlocked();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with stdin, stdout and stderr redirected.</summary>
    /// <param name="environment">Variables to set; a <c>null</c> value removes the variable.</param>
    /// <param name="log">Receives every line as <c>[name:out] line</c>, e.g. an xunit <c>ITestOutputHelper.WriteLine</c>.</param>
    public static ProcessRunner Start(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        Action<string>? log = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        var process = new Process { StartInfo = startInfo };
        var runner = new ProcessRunner(process, log)
        {
            CommandLine = string.Join(' ', [fileName, .. startInfo.ArgumentList.Select(Quote)]),
        };
        process.OutputDataReceived += (_, e) => runner.OnLine(e.Data, runner._stdout, "out");
        process.ErrorDataReceived += (_, e) => runner.OnLine(e.Data, runner._stderr, "err");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return runner;
    }

    /// <summary>Starts a process, optionally feeds it <paramref name="stdin"/>, and waits for it to exit.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? stdin = null,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        Action<string>? log = null)
    {
        await using var runner = Start(fileName, arguments, environment, workingDirectory, log);
        return await runner.RunToEndAsync(stdin, timeout);
    }

    /// <summary>
    /// Waits for a line on stdout or stderr that matches <paramref name="predicate"/> (lines captured before the
    /// call count too) and returns it.
    /// </summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>, or the process ended first; the message holds the captured output.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        TaskCompletionSource<string> found;
        lock (_gate)
        {
            var existing = _stdout.Concat(_stderr).FirstOrDefault(predicate);
            if (existing is not null)
            {
                return existing;
            }

            if (_openStreams == 0)
            {
                throw new TimeoutException($"The process ended without printing the expected line.\n{CapturedOutputUnlocked()}");
            }

            found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((predicate, found));
        }

        try
        {
            return await found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Found == found);
            }

            throw new TimeoutException($"No expected line within {timeout.TotalSeconds:0.#} s.\n{CapturedOutput}");
        }
    }

    /// <summary>
    /// Writes <paramref name="stdin"/> (if any), closes stdin, and waits for the process to exit and its output to end.
    /// </summary>
    /// <exception cref="TimeoutException">The process did not exit within <paramref name="timeout"/> (default 30 s); it is killed.</exception>
    public async Task<ProcessResult> RunToEndAsync(string? stdin = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        try
        {
            if (stdin is not null)
            {
                await _process.StandardInput.WriteAsync(stdin);
                await _process.StandardInput.FlushAsync();
            }

            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process exited before reading its input; its exit code and output tell why.
        }

        try
        {
            using var cts = new CancellationTokenSource(limit);
            await _process.WaitForExitAsync(cts.Token);
            await _outputClosed.Task.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"The process did not exit within {limit.TotalSeconds:0.#} s.\n{CapturedOutput}");
        }

        lock (_gate)
        {
            return new ProcessResult(_process.ExitCode, string.Join('\n', _stdout), string.Join('\n', _stderr));
        }
    }

    /// <summary>Kills the process and everything it started.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kill();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            // Best effort: a zombie must not fail the test that is cleaning up.
        }

        _process.Dispose();
    }

    public override string ToString() => CommandLine;

    private void OnLine(string? line, List<string> lines, string stream)
    {
        List<TaskCompletionSource<string>> matched = [];
        List<TaskCompletionSource<string>> orphaned = [];
        lock (_gate)
        {
            if (line is null)
            {
                if (--_openStreams == 0)
                {
                    orphaned.AddRange(_waiters.Select(w => w.Found));
                    _waiters.Clear();
                    _outputClosed.TrySetResult();
                }
            }
            else
            {
                lines.Add(line);
                foreach (var waiter in _waiters.Where(w => w.Predicate(line)).ToList())
                {
                    matched.Add(waiter.Found);
                    _waiters.Remove(waiter);
                }
            }
        }

        foreach (var found in matched)
        {
            found.TrySetResult(line!);
        }

        if (orphaned.Count > 0)
        {
            var error = new TimeoutException($"The process ended without printing the expected line.\n{CapturedOutput}");
            foreach (var found in orphaned)
            {
                found.TrySetException(error);
            }
        }

        if (line is not null && _log is not null)
        {
            try
            {
                _log($"[{Path.GetFileName(_process.StartInfo.FileName)}:{stream}] {line}");
            }
            catch (InvalidOperationException)
            {
                // xunit's output helper refuses writes after its test has finished.
            }
        }
    }

    private string CapturedOutputUnlocked() =>
        $"--- {CommandLine} ---\n--- stdout ---\n{string.Join('\n', _stdout)}\n--- stderr ---\n{string.Join('\n', _stderr)}";

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
