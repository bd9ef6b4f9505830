/// The stand-ins come with the platforms' signers: whoever plays a platform signs like it.
@_exported import PlatformSignatures
