; Windows installer of the officer's app (Inno Setup 6), made from the bundle that
; packaging/desmig.spec builds into dist\desmig\ (see .github/workflows/bundle.yml):
;   iscc /DAppVersion=0.1.0 packaging\desmig.iss     → dist\desmig-setup-0.1.0.exe
;
; Per user, without administrator rights (PrivilegesRequired=lowest): the app goes to
; %LOCALAPPDATA%\Programs\Desmig, with a Start-menu entry. The officer's data (database, logs,
; drafts) is not there: the app keeps it in the user data folder that platformdirs gives
; (%LOCALAPPDATA%\kemnaker\desmig), which this installer never writes, so uninstalling (or
; installing a new version over the old) keeps every record.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C1F3E52-8A47-4B0E-9D2B-5E7A1C0D9F31}
AppName=Desmigratif
AppVersion={#AppVersion}
AppPublisher=Kementerian Ketenagakerjaan (Kemnaker)
DefaultDirName={autopf}\Desmig
DefaultGroupName=Desmigratif
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=desmig-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\desmig.exe
UninstallDisplayName=Desmigratif

[Languages]
; Inno Setup ships no Indonesian messages file; English is its default.
Name: "en"; MessagesFile: "compiler:Default.isl"

[InstallDelete]
; A new version replaces the old program files whole (stale DLLs must not be loaded); data is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\dist\desmig\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; desmigw.exe: the same app without a console window (desmig.exe is the command line).
Name: "{group}\Desmigratif"; Filename: "{app}\desmigw.exe"; WorkingDir: "{userdocs}"
Name: "{group}\Hapus Desmigratif"; Filename: "{uninstallexe}"

[Run]
Filename: "{app}\desmigw.exe"; Description: "Buka Desmigratif"; Flags: nowait postinstall skipifsilent
