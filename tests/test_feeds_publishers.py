# ruff: noqa: E501
"""Feeds as publishers' software writes them (WordPress, Blogger, Ghost, Substack, Medium,
Drupal, Hugo, jekyll-feed, YouTube, Mastodon, RSSHub, RSS 1.0, JSON Feed, news CMSs), in
Persian, Arabic and English, fetched through the real code: each post as the editor composing
this week's issue expects it (title, link, date in UTC, excerpt), written down before the
code ran. The feeds are quoted as those programs write them, one builder a feed."""

from __future__ import annotations

import http.server
import ipaddress
import json
import ssl
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, unquote

import pytest
from builders import SAMPLE

from newsletter.models import Post
from newsletter.posts import feeds
from newsletter.posts.service import add_feed

pytestmark = (
    pytest.mark.slow
)  # in CI's run, not the quick loop: each case serves and fetches a feed over HTTP

ANY, FUTURE = object(), object()  # a date not checked; a date that must not lie ahead
TITLE_LEFTOVERS = ("&#", "&amp;", "&lt;", "<", ">")
EXCERPT_LEFTOVERS = TITLE_LEFTOVERS + ("appeared first on", "اولین بار در", "ظهرت المقالة")
EXCERPT_LEFTOVERS += ("Read more", "Read More", "ادامه مطلب", "ادامه‌ی مطلب", "ادامه خبر", "اقرأ المزيد")  # fmt: skip
CASES: dict = {}


def case(*posts, content_type="application/rss+xml; charset=UTF-8"):
    """Registers a feed builder with the posts an editor expects of it."""

    def register(build):
        CASES[build.__name__.replace("_", "-")] = (build, posts, content_type)
        return build

    return register


def post(title, url=None, published=ANY, has="", lacks="", starts=False):
    if isinstance(published, str):
        published = datetime.fromisoformat(published).replace(tzinfo=UTC)
    return dict(title=title, url=url, published=published, has=has, lacks=lacks, starts=starts)


# fmt: off
NS = 'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"'
UTF8, MON, T = '<?xml version="1.0" encoding="UTF-8"?>', "Mon, 05 Aug 2019 09:00:00 +0000", "2019-08-05 09:00"
WP_SLUG = quote("گزارش-هفتگی").lower()  # WordPress percent-encodes in lower case
WEEKLY, WEEKLY_1256 = post("گزارش هفتگی", None, T, "خلاصه‌ای کوتاه"), post("گزارش هفتگي", None, T, "خلاصه‌اي كوتاه")

def rss(items, ns=NS, prolog=UTF8):
    return f'{prolog}<rss version="2.0" {ns}><channel><title>Example</title><link>https://example.org/</link><description>x</description>{items}</channel></rss>'

def item(title, link, body="", date=MON):
    return f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate><description>{body}</description></item>"

def atom(entries, attrs=""):
    return f'{UTF8}<feed xmlns="http://www.w3.org/2005/Atom" {attrs}><title>Example</title><id>urn:example</id><updated>2019-08-07T00:00:00Z</updated>{entries}</feed>'

def weekly_report(prolog=UTF8, title="گزارش هفتگی", excerpt="خلاصه‌ای کوتاه", link="https://fa.example.org/weekly"):
    return rss(item(title, link, excerpt), NS, prolog)

@case(post("گزارش “حقوق بشر” – مرداد ۱۳۹۸", "https://fa.example.org/1398/05/14/گزارش-هفتگی/", T, "گزارش این هفته درباره‌ی داروهای کمیاب است…"), post("پرسش & پاسخ: تحریم و دارو", "https://fa.example.org/1398/05/15/qa/", "2019-08-06 09:00", "Questions and answers on sanctions…"))
def wordpress_rss2_fa():
    """WordPress wp-includes/feed-rss2.php with Yoast's footer in Persian, as click.ir's feed reads."""
    link = f"https://fa.example.org/1398/05/14/{WP_SLUG}/"
    return rss(f'<item><title>گزارش &#8220;حقوق بشر&#8221; &#8211; مرداد ۱۳۹۸</title><link>{link}</link><comments>{link}#respond</comments><pubDate>{MON}</pubDate><dc:creator><![CDATA[مریم]]></dc:creator><category><![CDATA[گزارش]]></category><guid isPermaLink="false">https://fa.example.org/?p=1201</guid>'
               f'<description><![CDATA[<p>اینترلینک &#8211; گزارش این هفته درباره‌ی داروهای کمیاب است [&#8230;]</p>\n<p>نوشته <a rel="nofollow" href="{link}">گزارش &#8220;حقوق بشر&#8221;</a> اولین بار در <a rel="nofollow" href="https://fa.example.org">اینترلینک</a> پدیدار شد.</p>\n]]></description>'
               '<content:encoded><![CDATA[<p><img src="https://fa.example.org/wp-content/uploads/2019/08/a.jpg" alt="" /></p>\n<p>اینترلینک &#8211; گزارش این هفته درباره‌ی داروهای کمیاب است.</p>]]></content:encoded></item>'
               '<item><title>پرسش &#038; پاسخ: تحریم و دارو</title><link>https://fa.example.org/1398/05/15/qa/</link><pubDate>Tue, 06 Aug 2019 09:00:00 +0000</pubDate><guid isPermaLink="false">https://fa.example.org/?p=1202</guid>'
               '<description><![CDATA[<p>Questions and answers on sanctions [&#8230;]</p>\n<p>The post <a rel="nofollow" href="https://fa.example.org/1398/05/15/qa/">پرسش &#038; پاسخ</a> appeared first on <a rel="nofollow" href="https://fa.example.org">اینترلینک</a>.</p>\n]]></description></item>')

@case(post("تقرير “الأدوية” في إيران", "https://ar.example.org/2019/08/05/تقرير/", T, "يتناول التقرير نقص الأدوية…"))
def wordpress_atom_ar():
    """WordPress wp-includes/feed-atom.php (xml:base, CDATA titles) with Yoast's footer in Arabic."""
    link = f"https://ar.example.org/2019/08/05/{quote('تقرير').lower()}/"
    return atom(f'<entry><author><name>سارة</name></author><title type="html"><![CDATA[تقرير &#8220;الأدوية&#8221; في إيران]]></title><link rel="alternate" type="text/html" href="{link}" /><id>https://ar.example.org/?p=77</id><updated>2019-08-06T10:00:00Z</updated><published>2019-08-05T09:00:00Z</published><category scheme="https://ar.example.org" term="تقارير" />'
                f'<summary type="html"><![CDATA[يتناول التقرير نقص الأدوية [&#8230;]<p>ظهرت المقالة <a rel="nofollow" href="{link}">تقرير</a> أولاً على <a rel="nofollow" href="https://ar.example.org">إنترلينك</a>.</p>]]></summary>'
                f'<content type="html" xml:base="{link}"><![CDATA[<p>يتناول التقرير نقص الأدوية في الصيدليات.</p>]]></content><link rel="replies" type="text/html" href="{link}#comments" thr:count="0" /><thr:total>0</thr:total></entry>',
                'xmlns:thr="http://purl.org/syndication/thread/1.0" xml:lang="ar" xml:base="https://ar.example.org/wp-atom.php"')

@case(post("خبر یکم", "https://news.example.org/fa/1398/05/khabar-1.html", T, "متن خبر یکم"), post("News two", "https://other.example.org/en/news-2", "2019-08-06 09:00", "Second story"))
def atom_xml_base():
    """Atom 1.0 with relative links under xml:base (RFC 4287 §2, RFC 3986 §5), feed- and entry-level."""
    return atom('<entry><title>خبر یکم</title><link href="1398/05/khabar-1.html"/><id>tag:news.example.org,2019:1</id><updated>2019-08-05T09:00:00Z</updated><summary>متن خبر یکم</summary></entry>'
                '<entry xml:base="https://other.example.org/blog/"><title>News two</title><link rel="alternate" href="../en/news-2"/><id>tag:other.example.org,2019:2</id><published>2019-08-06T09:00:00+00:00</published><updated>2019-08-07T09:00:00Z</updated><summary>Second story</summary></entry>',
                'xml:base="https://news.example.org/fa/"')

@case(post("یادداشت هفته: سانسور و کتاب", "https://example.blogspot.com/2019/08/blog-post_5.html", T, "سانسور کتاب در این هفته"))
def blogger_atom_fa():
    """Blogger's /feeds/posts/default Atom: replies, edit and self links before the alternate one, local offset with milliseconds."""
    page = "https://example.blogspot.com/2019/08/blog-post_5.html"
    return atom("<entry><id>tag:blogger.com,1999:blog-1234567890.post-987654321</id><published>2019-08-05T13:30:00.001+04:30</published><updated>2019-08-05T13:45:12.345+04:30</updated><category scheme='http://www.blogger.com/atom/ns#' term='کتاب'/><title type='text'>یادداشت هفته: سانسور و کتاب</title>"
                "<content type='html'>&lt;div dir=\"rtl\" style=\"text-align: right;\" trbidi=\"on\"&gt;&lt;div class=\"separator\"&gt;&lt;a href=\"https://1.bp.blogspot.com/x.jpg\"&gt;&lt;img border=\"0\" src=\"https://1.bp.blogspot.com/x.jpg\" /&gt;&lt;/a&gt;&lt;/div&gt;&lt;br /&gt;سانسور کتاب در این هفته دوباره خبرساز شد.&lt;/div&gt;</content>"
                f"<link rel='replies' type='application/atom+xml' href='https://example.blogspot.com/feeds/987654321/comments/default' title='نظرات ارسال شده'/><link rel='replies' type='text/html' href='{page}#comment-form' title='0 نظر'/><link rel='edit' type='application/atom+xml' href='https://www.blogger.com/feeds/1234567890/posts/default/987654321'/><link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/1234567890/posts/default/987654321'/><link rel='alternate' type='text/html' href='{page}' title='یادداشت هفته: سانسور و کتاب'/>"
                "<author><name>نویسنده</name><uri>https://www.blogger.com/profile/0</uri><email>noreply@blogger.com</email><gd:image rel='http://schemas.google.com/g/2005#thumbnail' width='16' height='16' src='https://img1.blogblog.com/img/b16-rounded.gif'/></author><thr:total>0</thr:total></entry>",
                "xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0'")

@case(post("Sanctions and the “humanitarian channel”", "https://blog.example.org/humanitarian-channel/", T, "How the channel was meant to work"))
def ghost_rss():
    """Ghost's /rss/ (generate-feed.js, npm 'rss'): CDATA everywhere, an object id for guid, media:content."""
    return rss('<item><title><![CDATA[Sanctions and the “humanitarian channel”]]></title><description><![CDATA[How the channel was meant to work, and why it has not.]]></description><link>https://blog.example.org/humanitarian-channel/</link><guid isPermaLink="false">5d47f0c8a8b1c2001e9f1234</guid><category><![CDATA[Sanctions]]></category><dc:creator><![CDATA[Jane Doe]]></dc:creator><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate>'
               '<media:content url="https://blog.example.org/content/images/2019/08/channel.jpg" medium="image"/><content:encoded><![CDATA[<img src="https://blog.example.org/content/images/2019/08/channel.jpg" alt="Sanctions"><p>How the channel was meant to work.</p><p>Why it has not.</p>]]></content:encoded></item>')

@case(post("Letter from Tehran: the price of insulin", "https://letters.substack.com/p/letter-from-tehran", "2019-08-05 09:00:13", "Pharmacies ration what they have"))
def substack_rss():
    """Substack's /feed: subtitle as description, guid isPermaLink="false" holding the URL, image enclosure."""
    return rss('<item><title><![CDATA[Letter from Tehran: the price of insulin]]></title><description><![CDATA[Pharmacies ration what they have]]></description><link>https://letters.substack.com/p/letter-from-tehran</link><guid isPermaLink="false">https://letters.substack.com/p/letter-from-tehran</guid><dc:creator><![CDATA[Sara Example]]></dc:creator><pubDate>Mon, 05 Aug 2019 09:00:13 GMT</pubDate>'
               '<enclosure url="https://substackcdn.com/image/fetch/w_1456,c_limit,f_auto/https%3A%2F%2Fbucket.s3.amazonaws.com%2Fimg.jpeg" length="0" type="image/jpeg"/><content:encoded><![CDATA[<p>Pharmacies ration what they have.</p><div class="subscription-widget-wrap"><p>Subscribe</p></div>]]></content:encoded></item>')

@case(post("گزارش ماهانه", "https://site.example.org/fa/monthly", T, "گزارش ماهانه‌ی ما درباره‌ی"))
def empty_description_content_encoded():
    """A site's hand-written RSS template (as public Next.js/PHP feed templates write it): an empty description, the text in content:encoded."""
    return rss('<item><title>گزارش ماهانه</title><link>https://site.example.org/fa/monthly</link><guid isPermaLink="true">https://site.example.org/fa/monthly</guid><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate><description><![CDATA[]]></description><content:encoded><![CDATA[<p>گزارش ماهانه‌ی ما درباره‌ی داروهای کمیاب.</p>]]></content:encoded></item>')

MEDIUM = "https://medium.com/@writer/why-medicine-is-scarce-in-iran-3f1c2a9b8d7e?source=rss-abc123------2"
@case(post("Why medicine is scarce in Iran", MEDIUM, T, "Sanctions exempt medicine. Banks do not"))
def medium_rss():
    """Medium's /feed/@user: no description, minified HTML in content:encoded, ?source= on the link, a stats pixel."""
    return rss(f'<item><title><![CDATA[Why medicine is scarce in Iran]]></title><link>{MEDIUM}</link><guid isPermaLink="false">https://medium.com/p/3f1c2a9b8d7e</guid><category><![CDATA[iran]]></category><dc:creator><![CDATA[Writer]]></dc:creator><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate><atom:updated>2019-08-05T09:05:31.123Z</atom:updated>'
               '<content:encoded><![CDATA[<h3>Why medicine is scarce in Iran</h3><figure><img alt="" src="https://cdn-images-1.medium.com/max/1024/1*abc.jpeg" /><figcaption>A pharmacy in Tehran</figcaption></figure><p>Sanctions exempt medicine.</p><p>Banks do not.</p><img src="https://medium.com/_/stat?event=post.clientViewed&amp;referrerSource=full_rss&amp;postId=3f1c2a9b8d7e" width="1" height="1" alt="">]]></content:encoded></item>')

@case(post("Sanctions and medicine", "https://www.example.org/en/news/sanctions-and-medicine", T, "A new report on shortages", "about Sanctions"))
def drupal_rss():
    """Drupal 8+ Views RSS (node 'rss' view mode): guid "N at site", the teaser's "Read more<span> about X</span>" link."""
    return rss('<item><title>Sanctions and medicine</title><link>https://www.example.org/en/news/sanctions-and-medicine</link><description>&lt;div class=&quot;clearfix text-formatted field field--name-body field--type-text-with-summary field--label-hidden field__item&quot;&gt;&lt;p&gt;A new report on shortages in Iran&#039;s pharmacies.&lt;/p&gt;&lt;/div&gt;\n'
               '&lt;ul class=&quot;links inline&quot;&gt;&lt;li class=&quot;node-readmore&quot;&gt;&lt;a href=&quot;/en/news/sanctions-and-medicine&quot; rel=&quot;tag&quot; title=&quot;Sanctions and medicine&quot; hreflang=&quot;en&quot;&gt;Read more&lt;span class=&quot;visually-hidden&quot;&gt; about Sanctions and medicine&lt;/span&gt;&lt;/a&gt;&lt;/li&gt;&lt;/ul&gt;\n</description>'
               '<pubDate>Mon, 05 Aug 2019 09:00:00 +0000</pubDate><dc:creator>editor</dc:creator><guid isPermaLink="false">123 at https://www.example.org</guid></item>')

@case(post("سلام دنیا", "https://hugo.example.org/posts/سلام-دنیا/", T, "نخستین نوشته"))
def hugo_rss_fa():
    """Hugo's embedded rss.xml (tpl/tplimpl/embedded/templates): percent-encoded permalink as guid, local offset, escaped summary."""
    link = f"https://hugo.example.org/posts/{quote('سلام-دنیا')}/"
    return rss(f"<item><title>سلام دنیا</title><link>{link}</link><pubDate>Mon, 05 Aug 2019 13:30:00 +0430</pubDate><guid>{link}</guid><description>&lt;p&gt;نخستین نوشته‌ی این وبلاگ.&lt;/p&gt;</description></item>",
               'xmlns:atom="http://www.w3.org/2005/Atom"', '<?xml version="1.0" encoding="utf-8" standalone="yes"?>')

@case(post("کتاب‌ها و “سانسور”", "https://jekyll.example.org/2019/08/05/کتاب.html", T, "درباره‌ی کتاب‌های ممنوع"))
def jekyll_feed_fa():
    """jekyll-feed's lib/jekyll-feed/feed.xml: title type="html" smartified and xml_escaped, content with xml:base."""
    link = f"https://jekyll.example.org/2019/08/05/{quote('کتاب')}.html"
    return atom(f'<entry xml:lang="fa"><title type="html">کتاب‌ها و &amp;ldquo;سانسور&amp;rdquo;</title><link href="{link}" rel="alternate" type="text/html" title="کتاب‌ها و “سانسور”" /><published>2019-08-05T13:30:00+04:30</published><updated>2019-08-05T13:30:00+04:30</updated><id>{link}</id>'
                f'<content type="html" xml:base="{link}">&lt;p&gt;درباره‌ی کتاب‌های ممنوع و سانسور.&lt;/p&gt;</content><author><name>مریم</name></author><category term="کتاب" /><summary type="html">درباره‌ی کتاب‌های ممنوع و سانسور.</summary></entry>', 'xml:lang="fa"')

@case(post("گفت‌وگو با خانواده‌ها | قسمت ۳", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", T, "در این قسمت با خانواده‌ها"))
def youtube_atom():
    """YouTube's /feeds/videos.xml?channel_id=: the video's text only in media:group/media:description."""
    return atom('<entry><id>yt:video:dQw4w9WgXcQ</id><yt:videoId>dQw4w9WgXcQ</yt:videoId><yt:channelId>UCx</yt:channelId><title>گفت‌وگو با خانواده‌ها | قسمت ۳</title><link rel="alternate" href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"/><author><name>کانال</name><uri>https://www.youtube.com/channel/UCx</uri></author><published>2019-08-05T09:00:00+00:00</published><updated>2019-08-06T11:12:13+00:00</updated>'
                '<media:group><media:title>گفت‌وگو با خانواده‌ها | قسمت ۳</media:title><media:content url="https://www.youtube.com/v/dQw4w9WgXcQ?version=3" type="application/x-shockwave-flash" width="640" height="390"/><media:thumbnail url="https://i1.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg" width="480" height="360"/><media:description>در این قسمت با خانواده‌ها درباره‌ی دارو گفت‌وگو کرده‌ایم.</media:description><media:community><media:starRating count="10" average="5.00" min="1" max="5"/><media:statistics views="100"/></media:community></media:group></entry>',
                'xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"')

TOOT = "https://mastodon.example/@interlink/102563201234567890"
@case(post("گزارش تازه‌ی ما درباره‌ی دارو", TOOT, T, "گزارش تازه‌ی ما درباره‌ی دارو", starts=True))
def mastodon_rss():
    """Mastodon's app/views/accounts/show.rss.ruby: no <title>, the status as escaped HTML, media:content with its own description."""
    return rss(f'<item><guid isPermaLink="true">{TOOT}</guid><link>{TOOT}</link><pubDate>{MON}</pubDate><description>&lt;p&gt;گزارش تازه‌ی ما درباره‌ی دارو منتشر شد: &lt;a href="https://fa.example.org/r" rel="nofollow noopener" target="_blank"&gt;fa.example.org/r&lt;/a&gt; &lt;a href="https://mastodon.example/tags/دارو" class="mention hashtag" rel="tag"&gt;#&lt;span&gt;دارو&lt;/span&gt;&lt;/a&gt;&lt;/p&gt;</description>'
               '<media:content url="https://mastodon.example/system/media/1.jpg" type="image/jpeg" fileSize="1000" medium="image"><media:rating scheme="urn:simple">nonadult</media:rating><media:description type="plain">تصویر داروخانه</media:description></media:content><category>دارو</category></item>',
               'xmlns:webfeeds="http://webfeeds.org/rss/1.0" xmlns:media="http://search.yahoo.com/mrss/"')

@case(post("خبر فوری: آزادی دو زندانی", "https://t.me/interlink_fa/1234", T, "خبر فوری: آزادی دو زندانی امروز صبح"))
def rsshub_telegram():
    """RSSHub's /telegram/channel/:username (its rss view): the message's first line as title, <br> between lines."""
    return rss('<item><title><![CDATA[خبر فوری: آزادی دو زندانی]]></title><description><![CDATA[خبر فوری: آزادی دو زندانی<br>امروز صبح دو زندانی سیاسی آزاد شدند.<br><img src="https://cdn4.telesco.pe/file/abc.jpg" referrerpolicy="no-referrer">]]></description><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate><guid isPermaLink="false">https://t.me/interlink_fa/1234</guid><link>https://t.me/interlink_fa/1234</link></item>',
               'xmlns:atom="http://www.w3.org/2005/Atom"')

@case(post("گزارش RDF", "https://fa.example.org/rdf-report/", T, "خلاصه‌ی گزارش"))
def rss1_rdf():
    """WordPress wp-includes/feed-rdf.php, RSS 1.0: items outside the channel, dated by dc:date alone."""
    return (f'{UTF8}<rdf:RDF xmlns="http://purl.org/rss/1.0/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:admin="http://webns.net/mvcb/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            '<channel rdf:about="https://fa.example.org"><title>اینترلینک</title><link>https://fa.example.org</link><description>x</description><dc:date>2019-08-05T09:00:00Z</dc:date><sy:updatePeriod>hourly</sy:updatePeriod><admin:generatorAgent rdf:resource="https://wordpress.org/?v=5.2.2" /><items><rdf:Seq><rdf:li rdf:resource="https://fa.example.org/rdf-report/"/></rdf:Seq></items></channel>'
            '<item rdf:about="https://fa.example.org/rdf-report/"><title>گزارش RDF</title><link>https://fa.example.org/rdf-report/</link><dc:date>2019-08-05T09:00:00Z</dc:date><dc:creator><![CDATA[مریم]]></dc:creator><dc:subject><![CDATA[گزارش]]></dc:subject><description><![CDATA[خلاصه‌ی گزارش [&#8230;]]]></description><content:encoded><![CDATA[<p>خلاصه‌ی گزارش و متن کامل.</p>]]></content:encoded></item></rdf:RDF>')

@case(post("گزارش JSON", "https://micro.example.org/2019/08/05/report.html", T, "خلاصه‌ی کوتاه"), content_type="application/feed+json")
def jsonfeed_1_1():
    """JSON Feed 1.1 (jsonfeed.org/version/1.1), as Micro.blog and static-site generators publish it."""
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "میکرو", "home_page_url": "https://micro.example.org/", "feed_url": "https://micro.example.org/feed.json", "language": "fa", "items": [
        {"id": "https://micro.example.org/2019/08/05/report.html", "url": "https://micro.example.org/2019/08/05/report.html", "title": "گزارش JSON", "content_html": "<p>خلاصه‌ی کوتاه از گزارش.</p>", "summary": "خلاصه‌ی کوتاه", "date_published": "2019-08-05T13:30:00+04:30", "authors": [{"name": "مریم"}]}]}, ensure_ascii=False)

@case(post("تحریم‌ها و بازار دارو", "https://www.example.com/persian/iran-49234567?page=2", T, "بازار دارو"))
def utm_news():
    """A news CMS tagging every feed link with Google Analytics' utm_* campaign parameters (the guid without them)."""
    return rss('<item><title>تحریم‌ها و بازار دارو</title><link>https://www.example.com/persian/iran-49234567?page=2&amp;utm_source=rss&amp;utm_medium=rss&amp;utm_campaign=iran</link><guid isPermaLink="false">https://www.example.com/persian/iran-49234567</guid><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate><description>گزارشی درباره‌ی بازار دارو.</description></item>')

@case(post("گزارش فیدبرنر", "https://fa.example.org/1398/05/feedburner-post/", T, "متن گزارش"))
def feedburner_origlink():
    """FeedBurner's republished feed: a feedproxy.google.com link (a service Google shut down), the article in feedburner:origLink."""
    return rss('<item><title>گزارش فیدبرنر</title><link>https://feedproxy.google.com/~r/example/~3/AbCdEf/</link><guid isPermaLink="false">https://fa.example.org/?p=55</guid><pubDate>Mon, 05 Aug 2019 09:00:00 +0000</pubDate><description>متن گزارش &lt;img src="http://feeds.feedburner.com/~r/example/~4/AbCdEf" height="1" width="1" alt=""/&gt;</description><feedburner:origLink>https://fa.example.org/1398/05/feedburner-post/</feedburner:origLink></item>',
               NS + ' xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"')

@case(post("لینک و guid", "https://fa.example.org/fa/لینک-و-guid/", T, "نشانی نوشته"), post("فقط guid", "https://fa.example.org/?p=9", "2019-08-06 09:00", "بی‌لینک"))
def link_guid_raw_slug():
    """RSS 2.0 spec (rssboard.org): a permalink guid that differs from <link>, a raw Persian slug, and a guid alone."""
    return rss(f'<item><title>لینک و guid</title><link>https://fa.example.org/fa/لینک-و-guid/</link><guid>https://fa.example.org/?p=8</guid><pubDate>{MON}</pubDate><description>نشانی نوشته با نامک فارسی</description></item>'
               '<item><title>فقط guid</title><guid>https://fa.example.org/?p=9</guid><pubDate>Tue, 06 Aug 2019 09:00:00 +0000</pubDate><description>نوشته‌ی بی‌لینک</description></item>')

@case(post("IRST", None, "2020-01-20 09:00"), post("+0330", None, "2020-01-20 09:00"), post("IRDT", None, T), post("ISO 8601", None, T))
def dates_named_zones():
    """Iranian PHP CMSs' date('D, d M Y H:i:s T') in Asia/Tehran (IRST/IRDT; RFC 822 §5 names only US zones), +0330, and ISO 8601 in pubDate."""
    dates = {"IRST": "Mon, 20 Jan 2020 12:30:00 IRST", "+0330": "Mon, 20 Jan 2020 12:30:00 +0330", "IRDT": "Mon, 05 Aug 2019 13:30:00 IRDT", "ISO 8601": "2019-08-05T13:30:00+04:30"}
    return rss("".join(item(title, f"https://fa.example.org/z/{n}", "x", date) for n, (title, date) in enumerate(dates.items())))

@case(post("ارقام فارسی", None, T), post("تاریخ شمسی", None, T))
def dates_persian():
    """Persian digits in pubDate (Persian-digit WordPress plugins such as WP-Parsidate) and a Jalali date in Tehran time (Iranian news CMSs)."""
    return rss(item("ارقام فارسی", "https://fa.example.org/d/1", "x", "Mon, ۰۵ Aug ۲۰۱۹ ۰۹:۰۰:۰۰ +0000") + item("تاریخ شمسی", "https://fa.example.org/d/2", "x", "۱۳۹۸/۰۵/۱۴ - ۱۳:۳۰"))

@case(post("نشست ماه آینده", None, FUTURE))
def future_date():
    """A WordPress events plugin (The Events Calendar style) dating each item by its event, a month ahead."""
    return rss(item("نشست ماه آینده", "https://fa.example.org/events/1", "نشستی درباره‌ی دارو", format_datetime(datetime.now(UTC) + timedelta(days=30), usegmt=True)))

@case(post("Iran Blasts US , EU support for MKO Terrorists – Mersad Anniversary", None, None), post("OIAC aka MEK Deceptive Tactics in USA", None, "2019-08-15 09:00", "Islamist-Marxist cultish group"))
def interlink_undated():
    """The organisation's own feed, ../shared/samples/interlink-feed.xml (tests/data): one item without a date."""
    return SAMPLE

@case(post("تحریم & دارو", None, ANY, "یک"), post("گزارش “حقوق بشر”", None, ANY, "دو"), post("گزارش “دارو” & درمان", None, ANY, "سه"))
def entities_in_titles():
    """Titles escaped twice (a plugin's esc_html over WordPress's the_title_rss) and CDATA holding entities (RSSHub, Ghost)."""
    return rss(item("تحریم &amp;amp; دارو", "https://fa.example.org/e/1", "یک") + item("گزارش &amp;#8220;حقوق بشر&amp;#8221;", "https://fa.example.org/e/2", "دو") + item("<![CDATA[گزارش &#8220;دارو&#8221; &amp; درمان]]>", "https://fa.example.org/e/3", "سه"))

@case(post("کتاب‌ها «ممنوع»", None, T, "خلاصه خبر"))
def html_entities_not_xml():
    """A Persian CMS writing HTML's named entities (&zwnj; &laquo; &nbsp; &rlm;), which XML lacks, straight into the feed."""
    return rss(item("کتاب&zwnj;ها &laquo;ممنوع&raquo;", "https://fa.example.org/books", "&rlm;خلاصه&nbsp;خبر"))

@case(WEEKLY)
def ncr_latin1():
    """An ASP.NET-style XmlWriter declaring ISO-8859-1 and writing each Persian letter as a numeric character reference."""
    refs = lambda text: "".join(c if c.isascii() else f"&#{ord(c)};" for c in text)  # noqa: E731
    return weekly_report('<?xml version="1.0" encoding="ISO-8859-1"?>', refs("گزارش هفتگی"), refs("خلاصه‌ای کوتاه")).encode("latin-1")

@case(WEEKLY)
def utf8_bom():
    """UTF-8 with a byte order mark, as a PHP template saved with one sends it."""
    return b"\xef\xbb\xbf" + weekly_report().encode()

@case(WEEKLY)
def blank_lines_before_prolog():
    """WordPress with a plugin or functions.php ending in blank lines: newlines before <?xml (the classic feed error)."""
    return b"\n\n" + weekly_report().encode()

@case(WEEKLY_1256)
def windows_1256_prolog():
    """An older Persian CMS in windows-1256 (Arabic yeh and kaf, as that code page has them), declared in the prolog."""
    return weekly_report('<?xml version="1.0" encoding="windows-1256"?>', "گزارش هفتگي", "خلاصه‌اي كوتاه").encode("cp1256")

@case(WEEKLY_1256, content_type="text/xml; charset=windows-1256")
def charset_only_in_content_type():
    """windows-1256 named only by the server's Content-Type; the prolog names none (RFC 7303 §3.2: the charset parameter governs)."""
    return weekly_report('<?xml version="1.0"?>', "گزارش هفتگي", "خلاصه‌اي كوتاه").encode("cp1256")

@case(WEEKLY, content_type="application/rss+xml; charset=utf-8")
def content_type_vs_prolog():
    """A site moved to UTF-8 whose template still declares windows-1256; the server says utf-8 (RFC 7303 §3: HTTP's charset wins)."""
    return weekly_report('<?xml version="1.0" encoding="windows-1256"?>').encode()

@case(WEEKLY, content_type="text/html; charset=UTF-8")
def served_as_text_html():
    """WordPress's feed behind a server or cache that labels it text/html."""
    return weekly_report().encode()

@case(post("پس از https", "{https}/fa/news/1", T, "نشانی امن"))
def redirect_to_https():
    """A site moved to https: the http feed answers 301 to https, and an item's link is root-relative."""
    return weekly_report(title="پس از https", excerpt="نشانی امن", link="/fa/news/1")

@case(post("قسمت ۱۲: دارو و تحریم", "https://cdn.example.org/podcast/ep12.mp3", T, "در این قسمت"))
def podcast_enclosures_only():
    """A podcast feed after Apple Podcasts' RSS requirements: enclosure and guid isPermaLink="false", no <link>."""
    return rss('<item><title>قسمت ۱۲: دارو و تحریم</title><enclosure url="https://cdn.example.org/podcast/ep12.mp3" length="24986239" type="audio/mpeg"/><guid isPermaLink="false">podcast-ep12</guid><pubDate>Mon, 05 Aug 2019 09:00:00 GMT</pubDate><description>در این قسمت درباره‌ی دارو و تحریم گفت‌وگو می‌کنیم.</description><itunes:duration>00:32:16</itunes:duration><itunes:episode>12</itunes:episode><itunes:explicit>false</itunes:explicit></item>',
               'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/"')

def five_hundred(newest_first):
    items = [item(f"Item {i}", f"https://example.org/p/{i}", "x", format_datetime(datetime(2019, 8, 7, 9, tzinfo=UTC) - timedelta(days=499 - i))) for i in range(500)]
    return rss("".join(reversed(items) if newest_first else items))

THIS_WEEK = (post("Item 497", None, T), post("Item 498", None, "2019-08-06 09:00"), post("Item 499", None, "2019-08-07 09:00"))
@case(*THIS_WEEK)
def large_500_oldest_first():
    """500 items oldest first, as archive templates sorted ascending (Hugo's .Pages.ByDate, some Drupal views) write them."""
    return five_hundred(newest_first=False)

@case(*THIS_WEEK)
def large_500_newest_first():
    """WordPress with 'Syndication feeds show the most recent' set to 500, newest first."""
    return five_hundred(newest_first=True)

@case(post("گزارش کامل", None, T, "بند نخست گزارش. بند دوم گزارش", "color:"))
def full_html_description():
    """WordPress's full-text feed on a page-builder site with Jetpack: style, figure, script and the stats pixel in the description."""
    return rss(item("گزارش کامل", "https://fa.example.org/full/", '<![CDATA[<style>.wp-block-gallery{color:red}</style>\n<figure class="wp-block-image"><img src="https://fa.example.org/a.jpg" alt="داروخانه"/><figcaption>داروخانه‌ای در تهران</figcaption></figure>\n<p>بند نخست گزارش.</p>\n<p>بند دوم گزارش.</p>\n<script>var _gaq = _gaq || [];</script>\n<img alt="" border="0" src="https://pixel.wp.com/b.gif?host=fa.example.org&#038;blog=1&#038;post=300&#038;subd=fa&#038;ref=&#038;feed=1" width="1" height="1" />]]>'))

@case(post("ادامه مطلب", None, ANY, "خلاصه‌ی نوشته"), post("Read More", None, ANY, "English summary"), post("ادامه‌ی مطلب", None, ANY, "خلاصه‌ی فارسی"), post("ادامه خبر", None, ANY, "خلاصه‌ی خبر"), post("اقرأ المزيد", None, ANY, "ملخص عربي"))
def read_more_trailers():
    """Links to the rest: Blogfa's 'ادامه مطلب', themes' 'Read More »' and 'ادامه‌ی مطلب', news sites' 'ادامه خبر', Arabic themes' 'اقرأ المزيد'."""
    texts = {"ادامه مطلب": "خلاصه‌ی نوشته", "Read More": "English summary of the post&#8230;", "ادامه‌ی مطلب": "خلاصه‌ی فارسی نوشته", "ادامه خبر": "خلاصه‌ی خبر", "اقرأ المزيد": "ملخص عربي للمقال"}
    more = {"Read More": "Read More &raquo;"}
    return rss("".join(item(title, f"https://fa.example.org/m/{n}", f'<![CDATA[<p>{text} <a class="more-link" href="https://fa.example.org/m/{n}">{more.get(title, title)}</a></p>]]>') for n, (title, text) in enumerate(texts.items())))
# fmt: on


def _tls(folder, monkeypatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by the fetch through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now, pem = datetime.now(UTC), serialization.Encoding.PEM
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(folder / "cert.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.fixture
def served(web_files, tmp_path, monkeypatch):
    """web_files, answering with a publisher's Content-Type, and over https behind a 301 when asked."""
    types, moved, started = {}, {}, []

    class Publisher(web_files.RequestHandlerClass):
        def do_GET(self):
            if self.path not in moved:
                return super().do_GET()
            self.send_response(301)
            self.send_header("Location", moved[self.path])
            self.end_headers()

        def send_header(self, name, value):
            super().send_header(
                name, types.get(self.path, value) if name == "Content-Type" else value
            )

    def serve(body: bytes, content_type: str, https: bool) -> str:
        web_files.files["/feed"], types["/feed"] = body, content_type
        if not https:
            return web_files.url + "/feed"
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Publisher)
        server.socket = _tls(tmp_path, monkeypatch).wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(server)
        serve.https = f"https://127.0.0.1:{server.server_address[1]}"
        moved["/old-feed"] = serve.https + "/feed"
        return web_files.url + "/old-feed"

    web_files.RequestHandlerClass, serve.https = Publisher, ""
    yield serve
    for server in started:
        server.shutdown()
        server.server_close()


def differences(want: dict, posts: list[Post], https: str) -> list[str]:
    """What the editor sees of one expected post that is not what they expect."""
    title, url = want["title"], want["url"] and want["url"].format(https=https)

    def named(p):
        return p.title.startswith(title) if want["starts"] else p.title == title

    same = [p for p in posts if url and unquote(p.url) == unquote(url)]
    found = [p for p in posts if named(p)] or same
    if not found:
        return [f"{title!r}: no such post; the editor sees {[p.title for p in posts][:6]}"]
    got, out = found[0], []
    if not named(got):
        out.append(f"{title!r}: title {got.title!r}")
    if url and unquote(got.url) != unquote(url):
        out.append(f"{title!r}: url {got.url!r}, expected {url!r}")
    if want["published"] is FUTURE:
        if got.published_at and got.published_at > got.first_seen_at + timedelta(minutes=5):
            out.append(f"{title!r}: dated {got.published_at:%Y-%m-%d}, after it was first seen")
    elif want["published"] is not ANY and got.published_at != want["published"]:
        out.append(f"{title!r}: published {got.published_at}, expected {want['published']}")
    if want["has"] not in got.excerpt:
        out.append(f"{title!r}: excerpt {got.excerpt[:160]!r} lacks {want['has']!r}")
    left = [bad for bad in EXCERPT_LEFTOVERS + (want["lacks"] or "\0",) if bad in got.excerpt]
    left += [f"title:{bad}" for bad in TITLE_LEFTOVERS if bad in got.title]
    if left:
        out.append(f"{title!r}: keeps {left} in {got.excerpt[:200]!r}")
    return out


@pytest.mark.parametrize("name", CASES)
def test_a_publisher_s_feed_reads_as_its_editors_expect(weekly, served, name):
    build, expected, content_type = CASES[name]
    body = build()
    body = body.encode() if isinstance(body, str) else body
    feed = add_feed(weekly, served(body, content_type, https=name == "redirect-to-https"))
    try:
        feeds.fetch_feed(feed)
    except feeds.FeedError as error:
        pytest.fail(f"the editor sees: {error}")
    posts = Post.query.all()
    problems = [problem for want in expected for problem in differences(want, posts, served.https)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "said, read",
    [
        ("Mon, 05 Aug 2019 12:30:00 IRST", "2019-08-05 09:00"),  # the clocks said +04:30
        ("Sat, 07 Dec 2024 12:30:00 irst", "2024-12-07 09:00"),
        ("۱۴۰۳/۰۹/۱۷ ۱۲:۳۰", "2024-12-07 09:00"),  # Tehran, +03:30 all year since 2022
        ("1403-09-17", "2024-12-06 20:30"),  # midnight in Tehran
        ("۱۳۹۸/۱۳/۴۰", None),  # no such month: no date, the day it was first seen
        ("1398-05-14", "2019-08-04 19:30"),  # midnight in Tehran, then +04:30
        ("Mon, 05 Aug 1398 12:30:00 +0000", None),  # Gregorian 1398: a misread, no date
    ],
)
def test_iranian_dates_are_read_as_their_moment_or_as_none(said, read):
    from feedparser.datetimes import _parse_date

    from newsletter.posts import entries

    entry = {"published_parsed": _parse_date(said)}
    got = entries._published(entry, datetime.now(UTC))
    assert (got and got.strftime("%Y-%m-%d %H:%M")) == read


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000,
        b'{"version": "https://jsonfeed.org/version/1.1", "items": "none"}',
        b'{"version": 7, "items": []}',
        b"\xef\xbb\xbf  {not json",
    ],
    ids=["nested past recursion", "items not a list", "no json feed version", "broken"],
)
def test_json_that_is_no_json_feed_we_can_read_is_said_so(body):
    from newsletter.posts import entries

    try:
        parsed = entries.parse(body, "application/feed+json")
    except entries.NotAFeed:
        return
    assert parsed.entries == []
