<#
.SYNOPSIS
  Checks, on a real Windows 10/11 PC, what the Support Session app claims to
  do. Run it in an elevated Windows PowerShell 5.1 (or PowerShell 7) window:
  once while a session runs (-Phase During), once after it ended (-Phase
  After), and once more after a restart. Each claim prints PASS or FAIL; the
  exit code is the number of FAILs. See docs/WINDOWS-VERIFY.md.
.PARAMETER Phase
  During: the session runs. After: the session has ended.
.PARAMETER Sid
  After: the account's SID printed by the During run (its profile is looked
  up by it once the account is gone).
.PARAMETER ExpectedEnd
  During: the session's end as the station shows it (local time); default:
  the expiry in the app's session record.
#>
param(
  [Parameter(Mandatory)] [ValidateSet('During', 'After')] [string] $Phase,
  [string] $Sid,
  [datetime] $ExpectedEnd
)
$ErrorActionPreference = 'Stop'
$Account = 'AdHocRemoteUser'
$Service = 'AdHocSupport'
$InstallDir = Join-Path $env:ProgramFiles 'AdHocSupport'
$StateDir = Join-Path $env:ProgramData 'AdHocSupport'
$UserList = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\SpecialAccounts\UserList'
$ProfileList = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
$script:Failures = 0

function Claim([string] $What, [scriptblock] $Test) {
  $ok = $false
  try {
    $detail = & $Test
    $ok = ($detail -is [bool] -and $detail) -or ("$detail".StartsWith('ok'))
  }
  catch { $detail = "error: $($_.Exception.Message)" }
  if ($ok) { Write-Host "PASS  $What" -ForegroundColor Green }
  else { Write-Host "FAIL  $What  ($detail)" -ForegroundColor Red; $script:Failures++ }
}

function Get-Account { Get-LocalUser -Name $Account -ErrorAction SilentlyContinue }

# The folder is owned by Administrators, does not inherit, and only SYSTEM and
# Administrators may write; $ReadersOk lists who may read and run.
function Test-AdminOnly([string] $Path, [string[]] $ReadersOk) {
  if (-not (Test-Path -LiteralPath $Path)) { return "missing: $Path" }
  $item = Get-Item -LiteralPath $Path -Force
  if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) { return "$Path is a link" }
  $acl = Get-Acl -LiteralPath $Path
  $owner = (New-Object Security.Principal.NTAccount $acl.Owner).Translate([Security.Principal.SecurityIdentifier]).Value
  if ($owner -notin 'S-1-5-32-544', 'S-1-5-18') { return "owner $($acl.Owner)" }
  if (-not $acl.AreAccessRulesProtected) { return 'inherits its permissions' }
  $write = [Security.AccessControl.FileSystemRights]'Write, Delete, DeleteSubdirectoriesAndFiles, ChangePermissions, TakeOwnership'
  foreach ($r in $acl.Access) {
    $sid = $r.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value
    if ($sid -in 'S-1-5-32-544', 'S-1-5-18') { continue }
    if ($sid -notin $ReadersOk) { return "$($r.IdentityReference) has access" }
    if ($r.AccessControlType -eq 'Allow' -and ($r.FileSystemRights -band $write)) { return "$($r.IdentityReference) may write" }
  }
  'ok'
}

function Test-NoTempLeftovers {
  $found = Get-ChildItem -Path 'C:\Users\*\AppData\Local\Temp', "$env:SystemRoot\Temp" -Filter 'AdHocSupport*' -Force -ErrorAction SilentlyContinue
  if ($found) { return "found: $($found.FullName -join ', ')" }
  'ok'
}

if ($Phase -eq 'During') {
  Claim "account $Account exists" { [bool](Get-Account) }
  Claim 'account is enabled and its description says what it is' {
    $u = Get-Account; $u.Enabled -and $u.Description -like '*Ad Hoc Support*' }
  Claim 'account is hidden from the sign-in screen (UserList value 0)' {
    (Get-ItemProperty -Path $UserList -Name $Account -ErrorAction Stop).$Account -eq 0 }
  Claim 'account is a member of Administrators (S-1-5-32-544)' {
    [bool](Get-LocalGroupMember -SID 'S-1-5-32-544' | Where-Object { $_.Name -like "*\$Account" }) }
  Claim "Windows' account expiry equals the session's end (within 2 minutes)" {
    $u = Get-Account
    if (-not $u.AccountExpires) { return 'the account never expires' }
    $end = $ExpectedEnd
    if (-not $end) {
      $rec = Get-Content -Raw (Join-Path $StateDir 'session.json') | ConvertFrom-Json
      $end = [datetime]$rec.expires_at
    }
    $diff = [math]::Abs(($u.AccountExpires - $end).TotalMinutes)
    if ($diff -le 2) { 'ok' } else { "expires $($u.AccountExpires), session ends $end" } }
  Claim 'the session record holds no password and names no program file' {
    $t = Get-Content -Raw (Join-Path $StateDir 'session.json')
    if ($t -match '"password"|"exe"') { 'it does' } else { 'ok' } }
  Claim "service $Service runs as LocalSystem, starts automatically, from Program Files" {
    $s = Get-CimInstance Win32_Service -Filter "Name='$Service'"
    if (-not $s) { return 'no such service' }
    $path = $s.PathName.Trim('"').Split('"')[0]
    if ($s.State -ne 'Running') { return "state $($s.State)" }
    if ($s.StartName -ne 'LocalSystem') { return "runs as $($s.StartName)" }
    if ($s.StartMode -ne 'Auto') { return "start mode $($s.StartMode)" }
    if (-not $path.StartsWith("$InstallDir\", [StringComparison]::OrdinalIgnoreCase)) { return "runs $path" }
    'ok' }
  Claim 'Windows restarts the service when it fails' {
    $q = & "$env:SystemRoot\System32\sc.exe" qfailure $Service
    if ($q -match 'RESTART') { 'ok' } else { $q -join ' ' } }
  Claim 'install folder: Administrators own it, only SYSTEM/Administrators write, users read and run' {
    Test-AdminOnly $InstallDir @('S-1-5-32-545') }
  Claim 'state folder: Administrators own it, only SYSTEM/Administrators have any access' {
    Test-AdminOnly $StateDir @() }
  Claim 'the tray helper runs as the signed-in user, not SYSTEM' {
    $trays = Get-CimInstance Win32_Process -Filter "Name='AdHocSupport.exe'" | Where-Object { $_.CommandLine -like '*--tray*' }
    if (-not $trays) { return 'no tray helper running' }
    foreach ($p in $trays) {
      $o = Invoke-CimMethod -InputObject $p -MethodName GetOwner
      if ($o.User -eq 'SYSTEM' -or -not $o.User) { return "a tray runs as $($o.Domain)\$($o.User)" }
    }
    'ok' }
  Claim 'one screen helper runs as SYSTEM in the console session, from Program Files' {
    if (-not ('AdHocVerify.Wts' -as [type])) { Add-Type -Namespace AdHocVerify -Name Wts -MemberDefinition '[DllImport("kernel32.dll")] public static extern uint WTSGetActiveConsoleSessionId();' }
    $console = [AdHocVerify.Wts]::WTSGetActiveConsoleSessionId()
    $helpers = @(Get-CimInstance Win32_Process -Filter "Name='AdHocSupport.exe'" | Where-Object { $_.CommandLine -like '*--screen*' })
    if ($helpers.Count -ne 1) { return "$($helpers.Count) screen helpers run (console session $console)" }
    $p = $helpers[0]
    $o = Invoke-CimMethod -InputObject $p -MethodName GetOwner
    if ($o.User -ne 'SYSTEM') { return "it runs as $($o.Domain)\$($o.User)" }
    if ($p.SessionId -ne $console) { return "it runs in session $($p.SessionId), the console is $console" }
    if (-not $p.ExecutablePath.StartsWith("$InstallDir\", [StringComparison]::OrdinalIgnoreCase)) { return "it runs $($p.ExecutablePath)" }
    'ok' }
  Claim 'the screen helper logs to screen.log (admin-only, under 256 KB, no password)' {
    $log = Join-Path $StateDir 'screen.log'
    $r = Test-AdminOnly $log @()
    if ($r -ne 'ok') { return $r }
    if ((Get-Item -LiteralPath $log).Length -gt 256KB) { return 'screen.log is over 256 KB' }
    if (Select-String -LiteralPath $log -Pattern 'password' -Quiet) { return 'screen.log mentions a password' }
    'ok' }
  Claim 'the pipe lets interactive users read and write (0x12019b) but not create instances of it' {
    $acl = Get-Acl -Path '\\.\pipe\AdHocSupportSession'
    $iu = @($acl.Access | Where-Object { $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value -eq 'S-1-5-4' })
    if ($iu.Count -ne 1) { return "$($iu.Count) entries for INTERACTIVE: $($acl.Sddl)" }
    $mask = [int]$iu[0].FileSystemRights
    if ($mask -band 0x4) { return ('INTERACTIVE may create pipe instances (mask 0x{0:x}): {1}' -f $mask, $acl.Sddl) }
    if ($mask -ne 0x12019b) { return ('INTERACTIVE has mask 0x{0:x}, want 0x12019b: {1}' -f $mask, $acl.Sddl) }
    'ok' }
  Claim 'no scheduled task' { -not (Get-ScheduledTask -TaskName 'Ad Hoc Support Session' -ErrorAction SilentlyContinue) }
  Claim 'no files in %TEMP% folders' { Test-NoTempLeftovers }
  # Step 4 of docs/WINDOWS-VERIFY.md: a stopped remote command's children end with it (job object).
  Claim 'no child of a stopped remote command is left (adhoc-verify-tree)' {
    $left = @(Get-CimInstance Win32_Process | Where-Object { $_.CommandLine -like '*adhoc-verify-tree*' })
    if ($left.Count -eq 0) { 'ok' } else { 'still running: ' + (($left | ForEach-Object { "$($_.Name) ($($_.ProcessId))" }) -join ', ') } }
  # Ctrl+Alt+Del from the Screen view needs this policy; it is the PC
  # administrator's choice, so it is reported, not counted as a failure.
  $sas = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name SoftwareSASGeneration -ErrorAction SilentlyContinue).SoftwareSASGeneration
  if ($sas -in 1, 3) { Write-Host "INFO  Ctrl+Alt+Del can be sent from the Screen view (SoftwareSASGeneration = $sas)" }
  else { Write-Host "INFO  Ctrl+Alt+Del cannot be sent from the Screen view: SoftwareSASGeneration is $(if ($null -eq $sas) { 'not set' } else { $sas }) (1 or 3 allows it)" -ForegroundColor Yellow }
  $u = Get-Account
  if ($u) { Write-Host "Account SID (pass it to -Phase After -Sid): $($u.SID.Value)" }
}
else {
  Claim "account $Account is gone" { -not (Get-Account) }
  Claim 'no sign-in screen hiding value' {
    -not (Get-ItemProperty -Path $UserList -Name $Account -ErrorAction SilentlyContinue) }
  Claim 'no profile folder and no ProfileList key' {
    $left = @(Get-ChildItem $ProfileList | Where-Object {
        ($Sid -and $_.PSChildName -eq $Sid) -or ((Get-ItemProperty $_.PSPath).ProfileImagePath -like "*\$Account*") })
    $dirs = @(Get-ChildItem 'C:\Users' -Directory -Force -Filter "$Account*" -ErrorAction SilentlyContinue)
    if ($left -or $dirs) { "left: $(($left.PSChildName + $dirs.FullName) -join ', ')" } else { 'ok' } }
  Claim "no service $Service" { -not (Get-Service -Name $Service -ErrorAction SilentlyContinue) }
  Claim 'no AdHocSupport.exe runs (service, tray and screen helpers included)' {
    $left = @(Get-CimInstance Win32_Process -Filter "Name='AdHocSupport.exe'")
    if ($left) { "running: $(($left | ForEach-Object { "$($_.ProcessId) $($_.CommandLine)" }) -join '; ')" } else { 'ok' } }
  Claim 'no state folder' { -not (Test-Path -LiteralPath $StateDir) }
  Claim 'no install folder (before a restart: only files Windows deletes at the restart)' {
    if (-not (Test-Path -LiteralPath $InstallDir)) { return 'ok' }
    $pending = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations -join "`n"
    $files = @(Get-ChildItem -LiteralPath $InstallDir -Force)
    $notPending = @($files | Where-Object { $pending -notlike "*$($_.Name)*" })
    if ($notPending) { "left: $($notPending.FullName -join ', ')" } else { 'ok (pending deletion at the next restart; run again after it)' } }
  Claim 'no scheduled task' { -not (Get-ScheduledTask -TaskName 'Ad Hoc Support Session' -ErrorAction SilentlyContinue) }
  Claim 'no files in %TEMP% folders' { Test-NoTempLeftovers }
}
Write-Host "$script:Failures claim(s) failed."
exit $script:Failures
