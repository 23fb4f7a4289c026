using Microsoft.Extensions.Configuration;

namespace JobWorker.Jobs.Handlers;

/// <summary>Switches for the handlers JobWorker ships. Section <c>Handlers</c>, e.g. <c>Handlers__Delay__Enabled=false</c>.</summary>
internal sealed class BuiltInHandlerOptions
{
    public const string Section = "Handlers";

    public HandlerSwitch Delay { get; set; } = new();
    public HandlerSwitch Noop { get; set; } = new();

    /// <summary>
    /// Read while the host is composed (they decide what is registered), so checked then: a value that is not a
    /// boolean, or a key that names no built-in handler, stops the start with the key in the message.
    /// </summary>
    public static BuiltInHandlerOptions Read(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(Section).Get<BuiltInHandlerOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                $"Failed to convert configuration value in section '{Section}' (the built-in handlers: Delay, Noop, each with Enabled true or false): {e.Message}", e);
        }
    }

    public sealed class HandlerSwitch
    {
        public bool Enabled { get; set; } = true;
    }
}
