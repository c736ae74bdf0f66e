using Porthole.Server.Hosting;

try
{
    var app = ServerHost.Build(args);
    await ServerHost.RunAsync(app);
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException or IOException)
{
    // Configuration mistakes get one line that says what to fix, not a stack trace.
    await Console.Error.WriteLineAsync("porthole-server: " + ex.Message);
    return 1;
}
