import HTMLRendering

/// The customer's kiosk (`GET /kiosk`): "scan your card", then the member's name, balance, tier and
/// progress to the next tier, and a one-tap satisfaction question (1–5) stored for the member.
/// Live from the scan stream; after ``idleSeconds`` without a tap it asks for the next card.
enum KioskPage {
    static let idleSeconds = 30

    /// - Parameter run: this daemon run's id; with the scan's event id it makes each answer's key, so
    ///   a second tap on the same scan keeps the first answer.
    /// - Parameter capability: what lets this page follow the scans and send the tap (and nothing else).
    static func render(run: String, capability: String) -> String {
        HTML.document(
            title: "Loyalty — scan your card", bodyClass: "kiosk",
            body: """
                <main id="kiosk" data-state="connecting" data-run="\(HTML.escape(run))" data-capability="\(HTML.escape(capability))">
                <section id="waiting">
                  <h1>Scan your member card</h1>
                  <p class="muted">Hold your card or phone barcode to the scanner.</p>
                  <p id="offline" class="bad" hidden>Connecting to the till…</p>
                </section>
                <section id="member" hidden>
                  <h1 id="member-name">Welcome</h1>
                  <p class="balance"><span id="member-balance">0</span> <span class="muted">points</span></p>
                  <p>Tier <strong id="member-tier"></strong></p>
                  <p id="member-benefits" class="muted"></p>
                  <div class="progress" id="member-progress-track"><div id="member-progress-bar"></div></div>
                  <p id="member-progress" class="muted"></p>
                  <p id="member-notes"></p>
                  <div id="question" class="card">
                    <p>How was your visit today?</p>
                    <div class="answers" role="group" aria-label="1 poor to 5 excellent">
                      <button type="button" data-score="1">1</button><button type="button" data-score="2">2</button>
                      <button type="button" data-score="3">3</button><button type="button" data-score="4">4</button>
                      <button type="button" data-score="5">5</button>
                    </div>
                    <p class="muted">1 poor · 5 excellent</p>
                  </div>
                  <p id="thanks" class="ok" hidden>Thank you for your answer!</p>
                  <p id="feedback-error" class="bad" hidden></p>
                  <p id="scan-note" class="bad" hidden></p>
                </section>
                <section id="unknown" hidden>
                  <h1>Welcome!</h1>
                  <p>This card is not enrolled yet: ask at the till to join and start collecting points.</p>
                </section>
                <section id="rejected" hidden>
                  <h1>That is not your member card</h1>
                  <p id="rejected-advice"></p>
                </section>
                </main>
                """,
            script: script)
    }

    /// Fills the sections from the scan stream (textContent only: nothing from a scan becomes markup).
    static let script = """
        const kiosk = document.getElementById('kiosk');
        const $ = (id) => document.getElementById(id);
        let current = null, idleTimer = null;
        function showSection(name) {
          for (const id of ['waiting', 'member', 'unknown', 'rejected']) $(id).hidden = id !== name;
          kiosk.dataset.state = name;
        }
        function later() {
          clearTimeout(idleTimer);
          idleTimer = setTimeout(() => { current = null; showSection('waiting'); }, \(idleSeconds * 1000));
        }
        function show(scan, scanId) {
          later();
          if (scan.status !== 'member') {
            const advice = scan.message || 'Please scan your loyalty card.';
            // A product barcode scanned by mistake does not send the member away: a note, for a moment.
            if (current) {
              $('scan-note').textContent = advice;
              $('scan-note').hidden = false;
              return setTimeout(() => { $('scan-note').hidden = true; }, 5000);
            }
            $('rejected-advice').textContent = advice;
            return showSection('rejected');
          }
          if (!scan.enrolled || scan.card_status === 'blocked') {
            current = null;
            return showSection('unknown');
          }
          current = { card: scan.card, key: 'kiosk-' + kiosk.dataset.run + '-' + scanId };
          $('member-name').textContent = scan.name ? 'Welcome, ' + scan.name : 'Welcome, member ••••' + scan.card.slice(-4);
          $('member-balance').textContent = scan.balance;
          $('member-tier').textContent = scan.tier;
          const benefits = scan.tier_benefits || [];
          $('member-benefits').textContent = benefits.length ? 'Your ' + scan.tier + ' benefits: ' + benefits.join(' · ') : '';
          const byPoints = scan.points_to_next_tier != null;
          const reached = byPoints ? (scan.rolling_points_earned || 0) : parseFloat(scan.rolling_spend || '0');
          const missing = byPoints ? scan.points_to_next_tier : parseFloat(scan.spend_to_next_tier || '0');
          const percent = scan.next_tier ? Math.min(100, Math.round(100 * reached / (reached + missing))) : 100;
          $('member-progress-bar').style.width = percent + '%';
          $('member-progress').textContent = !scan.next_tier ? 'You are in our highest tier.'
            : byPoints ? scan.points_to_next_tier + ' more points for ' + scan.next_tier
            : scan.spend_to_next_tier + ' more to spend for ' + scan.next_tier;
          const notes = [];
          if (scan.birthday_this_week) notes.push('Happy birthday this week!');
          if ((scan.flags || []).includes('welcome_back')) notes.push('Welcome back — we missed you.');
          $('member-notes').textContent = notes.join(' ');
          $('question').hidden = false;
          $('thanks').hidden = true;
          $('feedback-error').hidden = true;
          $('scan-note').hidden = true;
          showSection('member');
        }
        async function answer(score) {
          if (!current) return;
          later();
          try {
            const response = await fetch('/v1/feedback', {
              method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Loyalty-Capability': kiosk.dataset.capability },
              body: JSON.stringify({ card: current.card, score: score, key: current.key }) });
            if (!response.ok) throw new Error((await response.json()).message);
            $('question').hidden = true;
            $('thanks').hidden = false;
          } catch (error) {
            $('feedback-error').textContent = 'Your answer could not be saved: ' + error.message;
            $('feedback-error').hidden = false;
          }
        }
        for (const button of document.querySelectorAll('[data-score]')) {
          button.addEventListener('click', () => answer(Number(button.dataset.score)));
        }
        const scans = new EventSource('/v1/scans?capability=' + encodeURIComponent(kiosk.dataset.capability));
        scans.onopen = () => { $('offline').hidden = true; if (kiosk.dataset.state === 'connecting') showSection('waiting'); };
        scans.onerror = () => { $('offline').hidden = false; };
        scans.addEventListener('scan', (event) => show(JSON.parse(event.data), event.lastEventId));
        """
}
