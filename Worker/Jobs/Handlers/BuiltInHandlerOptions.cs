namespace JobWorker.Jobs.Handlers;

/// <summary>Switches for the handlers JobWorker ships. Section <c>Handlers</c>, e.g. <c>Handlers__Delay__Enabled=false</c>.</summary>
public sealed class BuiltInHandlerOptions
{
    public const string Section = "Handlers";

    public HandlerSwitch Delay { get; set; } = new();
    public HandlerSwitch Noop { get; set; } = new();

    public sealed class HandlerSwitch
    {
        public bool Enabled { get; set; } = true;
    }
}
